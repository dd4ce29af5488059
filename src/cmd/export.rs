//! `vpcsim export`: a topology as a describe-* snapshot, the files a real account would give.

use super::args::TopologyArgs;
use super::stdio::{errln, outln};
use clap::Args;
use std::path::PathBuf;
use vpcsim_controlplane::snapshot::export;

#[derive(Args, Debug)]
#[command(
    after_help = "Writes OUT/aws_configs/<account>/<region>/<Key>.json, one file per describe-* call \
(Vpcs.json holds what `aws ec2 describe-vpcs` prints, and so on). Load it back with `-t OUT`.

Examples:
  vpcsim export -t examples/two-tier.yaml --out snap/
  vpcsim trace -t snap/ 'tcp 10.0.2.30:40000 -> 198.51.100.7:443'

Exit codes: 0 written, 2 errors in the topology or the output cannot be written."
)]
pub struct ExportArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Directory to write the snapshot into (created when missing; files of the same name are replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

pub fn run(args: &ExportArgs) -> i32 {
    let Ok((loaded, _)) = args.topology.topology() else {
        return 2;
    };
    let m = &loaded.model;
    let (account, region) = m
        .templates
        .first()
        .map(|t| (t.account_id.clone(), t.region.clone()))
        .unwrap_or_else(|| {
            (
                args.topology.account_id.clone(),
                args.topology.region.clone(),
            )
        });
    let dir = args.out.join("aws_configs").join(account).join(region);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        errln!("error: {}: cannot create the directory: {e}", dir.display());
        return 2;
    }
    let (files, skipped) = export(m);
    // Every file is written before anything is printed, so a closed stdout cannot leave a
    // partial snapshot behind.
    let mut written = Vec::new();
    for f in &files {
        let path = dir.join(&f.name);
        let text = serde_json::to_string_pretty(&f.json).unwrap_or_default();
        if let Err(e) = std::fs::write(&path, text + "\n") {
            errln!("error: {}: cannot write: {e}", path.display());
            return 2;
        }
        // A describe-* list counts its entries; one call's output about one resource
        // (describe-firewall and the like) counts as one.
        let n = match f.json.as_object() {
            Some(o) if o.len() == 1 => o
                .values()
                .next()
                .and_then(|v| v.as_array())
                .map_or(1, Vec::len),
            _ => 1,
        };
        written.push(format!("wrote {} ({n})", path.display()));
    }
    for line in written {
        outln!("{line}");
    }
    for (kind, id) in &skipped {
        errln!("warning: {id} ({kind}) is not exported: snapshots do not carry this kind yet");
    }
    0
}
