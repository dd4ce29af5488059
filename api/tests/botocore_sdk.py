"""The SDK's side of api/tests/iam_botocore.rs: signs requests with botocore's SigV4 signer and
parses vpcsim's answers with botocore's own response parsers (plus the IAM after-call hook
that decodes policy documents), exactly as boto3 and the aws CLI do.

stdin:  {"sign": [{service, region, key, secret, token, method, url, body, headers}],
         "parse": [{service, operation, status, body, headers}]}
stdout: {"signed": [{method, path, query, headers, body}], "parsed": [<parsed dict>]}
"""
import json
import sys
from urllib.parse import urlsplit

import botocore.session
from botocore import handlers, parsers
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

session = botocore.session.get_session()
job = json.load(sys.stdin)
out = {"signed": [], "parsed": []}

for s in job.get("sign", []):
    req = AWSRequest(method=s["method"], url=s["url"], data=s["body"].encode(), headers=s.get("headers", {}))
    SigV4Auth(Credentials(s["key"], s["secret"], s.get("token")), s["service"], s["region"]).add_auth(req)
    p = req.prepare()
    u = urlsplit(p.url)
    headers = [[k, v] for k, v in p.headers.items()]
    headers.append(["Host", u.netloc])
    body = p.body or b""
    out["signed"].append({"method": p.method, "path": u.path, "query": u.query, "headers": headers,
                          "body": body.decode() if isinstance(body, bytes) else body})

for r in job.get("parse", []):
    model = session.get_service_model(r["service"])
    op = model.operation_model(r["operation"])
    parser = parsers.create_parser(model.metadata["protocol"])
    parsed = parser.parse({"body": r["body"].encode(), "headers": r.get("headers", {}),
                           "status_code": r["status"]}, op.output_shape)
    if r["service"] == "iam" and r["status"] < 300:
        handlers.json_decode_policies(parsed, op)
    parsed.pop("ResponseMetadata", None)
    out["parsed"].append(parsed)

json.dump(out, sys.stdout, default=lambda o: {"datetime": o.isoformat()})
