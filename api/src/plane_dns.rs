//! Route 53 in a region's data plane: the global partition's hosted zones and record sets,
//! given to the snapshot loader in the shapes a snapshot of a real account holds them
//! (`HostedZones` of `get-hosted-zone` answers, `HostedZoneRecordSets` of
//! `list-resource-record-sets` answers wrapped with their `HostedZoneId`), so the region's VPC
//! resolvers answer from them.

use serde_json::{json, Value};

use crate::error::ApiError;
use crate::services::query_form::{list_of, str_of};
use crate::store::{Tx, GLOBAL};

/// The Route 53 documents `region` is compiled with, as `(top-level key, file content)`:
/// public zones, and private zones with their associations to this region's VPCs (a private
/// zone associated with VPCs of other regions only is no business of this region's resolvers,
/// and naming those VPCs here would be dangling references). Nothing when there is no zone.
pub fn route53_documents(
    tx: &Tx<'_>,
    region: &str,
) -> Result<Vec<(&'static str, Value)>, ApiError> {
    let mut zones = Vec::new();
    let mut record_sets = Vec::new();
    let records = tx.list(GLOBAL, "ResourceRecordSets")?;
    for zone in tx.list(GLOBAL, "HostedZones")? {
        let private = zone["Config"]["PrivateZone"].as_bool().unwrap_or(false);
        let vpcs: Vec<Value> = list_of(&zone, "VPCs")
            .iter()
            .filter(|v| str_of(v, "VPCRegion") == Some(region))
            .cloned()
            .collect();
        if private && vpcs.is_empty() {
            continue;
        }
        let id = str_of(&zone, "Id").unwrap_or_default();
        let bare = id.trim_start_matches("/hostedzone/").to_string();
        let mut hosted_zone = zone.clone();
        if let Some(m) = hosted_zone.as_object_mut() {
            m.remove("VPCs");
            m.remove("DelegationSet");
        }
        zones.push(json!({"HostedZone": hosted_zone, "VPCs": vpcs}));
        let sets: Vec<Value> = records
            .iter()
            .filter(|r| str_of(r, "HostedZoneId") == Some(bare.as_str()))
            .map(|r| {
                let mut r = r.clone();
                if let Some(m) = r.as_object_mut() {
                    m.remove("HostedZoneId");
                }
                r
            })
            .collect();
        record_sets.push(json!({"HostedZoneId": id, "ResourceRecordSets": sets}));
    }
    if zones.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![
        ("HostedZones", json!({ "HostedZones": zones })),
        (
            "HostedZoneRecordSets",
            json!({ "HostedZoneRecordSets": record_sets }),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_private_zone_reaches_the_regions_of_its_vpcs_only() {
        let store = Store::open(None).unwrap();
        store
            .write(|tx| {
                let zone = json!({"Id": "/hostedzone/Z1", "Name": "example.internal.",
                    "Config": {"PrivateZone": true},
                    "VPCs": [{"VPCRegion": "eu-west-1", "VPCId": "vpc-1"},
                             {"VPCRegion": "us-east-1", "VPCId": "vpc-2"}]});
                tx.put(GLOBAL, "HostedZones", "Z1", &zone)?;
                let a = json!({"Name": "db.example.internal.", "Type": "A", "TTL": 60,
                    "HostedZoneId": "Z1", "ResourceRecords": [{"Value": "10.0.2.30"}]});
                tx.put(GLOBAL, "ResourceRecordSets", "Z1|db|A|", &a)
            })
            .unwrap();
        let docs = store.read(|tx| route53_documents(tx, "eu-west-1")).unwrap();
        assert_eq!(docs[0].0, "HostedZones");
        let zone = &docs[0].1["HostedZones"][0];
        assert_eq!(
            zone["VPCs"],
            json!([{"VPCRegion": "eu-west-1", "VPCId": "vpc-1"}])
        );
        assert_eq!(zone["HostedZone"].get("VPCs"), None);
        let sets = &docs[1].1["HostedZoneRecordSets"][0];
        assert_eq!(sets["HostedZoneId"], "/hostedzone/Z1");
        assert_eq!(
            sets["ResourceRecordSets"][0]["Name"],
            "db.example.internal."
        );
        assert_eq!(sets["ResourceRecordSets"][0].get("HostedZoneId"), None);
        assert!(store
            .read(|tx| route53_documents(tx, "ap-south-1"))
            .unwrap()
            .is_empty());
    }
}
