//! What `validate` lists about Auto Scaling groups: each group and every instance it launched,
//! with the ids and addresses users and tests address them by.

use serde_json::{json, Value};
use vpcsim_controlplane::model::{LaunchSource, Model};

/// Every Auto Scaling group with its instances; a snapshot's instances are grouped by their
/// `aws:autoscaling:groupName` tag (the group's own settings are not in a snapshot).
pub fn groups_json(m: &Model) -> Vec<Value> {
    let mut out: Vec<Value> = m
        .auto_scaling_groups
        .iter()
        .map(|g| {
            let source = match &g.launch_source {
                LaunchSource::Template { template, version } => json!({
                    "launch_template": m.launch_templates[*template].origin.logical_id,
                    "version": version,
                }),
                LaunchSource::Configuration(c) => json!({
                    "launch_configuration": m.launch_configurations[*c].origin.logical_id,
                }),
                LaunchSource::Instance(i) => json!({
                    "instance": m.instances[*i].origin.logical_id,
                }),
            };
            json!({
                "group": g.origin.logical_id,
                "name": g.name,
                "min_size": g.min_size,
                "max_size": g.max_size,
                "desired_capacity": g.desired_capacity,
                "launch_source": source,
                "subnets": g.subnets.iter().map(|&s| m.subnets[s].origin.logical_id.clone()).collect::<Vec<_>>(),
                "target_groups": g.target_group_arns,
                "instances": g.instances.iter().map(|&i| instance_json(m, i)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut tagged: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, inst) in m.instances.iter().enumerate() {
        let Some(a) = inst.auto_scaling.as_ref().filter(|a| a.group.is_none()) else {
            continue;
        };
        match tagged.iter_mut().find(|(n, _)| *n == a.group_name) {
            Some((_, list)) => list.push(i),
            None => tagged.push((&a.group_name, vec![i])),
        }
    }
    out.extend(tagged.into_iter().map(|(name, list)| {
        json!({
            "group": name,
            "name": name,
            "instances": list.iter().map(|&i| instance_json(m, i)).collect::<Vec<_>>(),
        })
    }));
    out
}

fn instance_json(m: &Model, i: usize) -> Value {
    let inst = &m.instances[i];
    let primary = inst.enis.first().map(|&e| (e, &m.enis[e]));
    let private = primary.and_then(|(_, e)| e.private_v4.first().copied());
    let public = primary
        .zip(private)
        .and_then(|((e, _), a)| m.public_ip_of(e, a));
    let subnet = primary.map(|(_, e)| &m.subnets[e.subnet]);
    json!({
        "name": inst.origin.logical_id,
        "index": inst.auto_scaling.as_ref().map(|a| a.index),
        "instance_id": inst.origin.id,
        "subnet": subnet.map(|s| s.origin.logical_id.clone()),
        "availability_zone": subnet.map(|s| s.availability_zone.clone()),
        "private_ip": private.map(|a| a.to_string()),
        "public_ip": public.map(|a| a.to_string()),
        "ipv6": primary.map(|(_, e)| e.ipv6.iter().map(|a| a.to_string()).collect::<Vec<_>>()).unwrap_or_default(),
        "security_groups": primary.map(|(_, e)| e.security_groups.iter().map(|&g| m.security_groups[g].origin.logical_id.clone()).collect::<Vec<_>>()).unwrap_or_default(),
    })
}

/// The text `validate` prints for [`groups_json`].
pub fn groups_text(groups: &[Value]) -> String {
    let mut out = String::new();
    for g in groups {
        let s = |v: &Value| v.as_str().unwrap_or("").to_string();
        let instances = g["instances"].as_array().map_or(&[][..], Vec::as_slice);
        let n = instances.len();
        let mut head = format!(
            "\nAuto Scaling group {} ({}): {n} instance{}",
            s(&g["group"]),
            s(&g["name"]),
            if n == 1 { "" } else { "s" }
        );
        if let Some(min) = g["min_size"].as_u64() {
            head.push_str(&format!(" (min {min}, max {})", g["max_size"]));
        }
        let src = &g["launch_source"];
        if let Some(lt) = src["launch_template"].as_str() {
            head.push_str(&format!(
                ", launch template {lt} version {}",
                s(&src["version"])
            ));
        } else if let Some(lc) = src["launch_configuration"].as_str() {
            head.push_str(&format!(", launch configuration {lc}"));
        } else if let Some(i) = src["instance"].as_str() {
            head.push_str(&format!(", launched like instance {i}"));
        }
        out.push_str(&head);
        out.push_str(":\n");
        for i in instances {
            // A snapshot's instances are named by their id.
            let name = if i["name"] == i["instance_id"] {
                String::new()
            } else {
                format!("{}  ", s(&i["name"]))
            };
            let mut line = format!(
                "  {name}{}  {} ({})  {}",
                s(&i["instance_id"]),
                s(&i["subnet"]),
                s(&i["availability_zone"]),
                s(&i["private_ip"])
            );
            if let Some(p) = i["public_ip"].as_str() {
                line.push_str(&format!("  public {p}"));
            }
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}
