//! Placement rules, pure: a job's `NodeSelectors` against a node's labels (the
//! Kubernetes operators Bacalhau accepts) and its `Resources` against a node's capacity.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engines::wasm::limits::parse_memory;
use crate::model::{LabelSelector, Resources};

/// What choosing a node for a job needs, kept beside its waiting executions.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Placement {
    /// The spec's selectors.
    #[serde(default)]
    pub node_selectors: Vec<LabelSelector>,
    /// The spec's resources.
    #[serde(default)]
    pub resources: Resources,
    /// Executions it runs.
    #[serde(default)]
    pub concurrency: i64,
}

impl Placement {
    /// The placement needs of a spec.
    pub fn of(spec: &crate::model::Spec) -> Self {
        Self {
            node_selectors: spec.node_selectors.clone(),
            resources: spec.resources.clone(),
            concurrency: spec.deal.concurrency.max(1),
        }
    }
}

/// Resources as numbers: what a node has or what a job needs. Serialized as Bacalhau's
/// `ResourceUsageData` (`CPU` in cores, `Memory` and `Disk` in bytes, `GPU` a count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Capacity {
    /// CPU cores (fractions allowed).
    #[serde(rename = "CPU", default)]
    pub cpu: f64,
    /// Memory in bytes.
    #[serde(rename = "Memory", default)]
    pub memory: u64,
    /// Disk in bytes.
    #[serde(rename = "Disk", default)]
    pub disk: u64,
    /// GPUs.
    #[serde(rename = "GPU", default)]
    pub gpu: u64,
}

impl Capacity {
    /// What a spec's `Resources` ask for (empty fields ask for nothing).
    pub fn of(r: &Resources) -> Result<Self, String> {
        let field = |name: &str, text: &str, parse: fn(&str) -> Result<u64, String>| {
            let t = text.trim();
            if t.is_empty() {
                Ok(0)
            } else {
                parse(t).map_err(|e| format!("Resources.{name} {t:?}: {e}"))
            }
        };
        Ok(Self {
            cpu: parse_cpu(r.cpu.trim()).map_err(|e| format!("Resources.CPU {:?}: {e}", r.cpu))?,
            memory: field("Memory", &r.memory, parse_memory)?,
            disk: field("Disk", &r.disk, parse_memory)?,
            gpu: field("GPU", &r.gpu, |t| {
                t.parse::<u64>()
                    .map_err(|_| "expected a whole number of GPUs".to_owned())
            })?,
        })
    }

    /// Whether `need` fits in this.
    pub fn fits(&self, need: &Capacity) -> bool {
        need.cpu <= self.cpu + 1e-9
            && need.memory <= self.memory
            && need.disk <= self.disk
            && need.gpu <= self.gpu
    }

    /// The first resource of `need` this lacks, named, with both amounts.
    pub fn shortfall(&self, need: &Capacity) -> Option<String> {
        if need.cpu > self.cpu + 1e-9 {
            Some(format!("CPU {} > {}", need.cpu, self.cpu))
        } else if need.memory > self.memory {
            Some(format!("Memory {} bytes > {}", need.memory, self.memory))
        } else if need.disk > self.disk {
            Some(format!("Disk {} bytes > {}", need.disk, self.disk))
        } else if need.gpu > self.gpu {
            Some(format!("GPU {} > {}", need.gpu, self.gpu))
        } else {
            None
        }
    }

    /// This plus `o`.
    pub fn plus(&self, o: &Capacity) -> Capacity {
        Capacity {
            cpu: self.cpu + o.cpu,
            memory: self.memory.saturating_add(o.memory),
            disk: self.disk.saturating_add(o.disk),
            gpu: self.gpu.saturating_add(o.gpu),
        }
    }

    /// This minus `o`, never below zero.
    pub fn minus(&self, o: &Capacity) -> Capacity {
        Capacity {
            cpu: (self.cpu - o.cpu).max(0.0),
            memory: self.memory.saturating_sub(o.memory),
            disk: self.disk.saturating_sub(o.disk),
            gpu: self.gpu.saturating_sub(o.gpu),
        }
    }
}

/// Parses CPU as Kubernetes writes it: `"2"`, `"0.5"` or `"500m"`; empty is zero.
pub fn parse_cpu(text: &str) -> Result<f64, String> {
    if text.is_empty() {
        return Ok(0.0);
    }
    let (number, scale) = match text.strip_suffix('m') {
        Some(n) => (n, 1000.0),
        None => (text, 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v / scale),
        _ => Err("expected cores such as 2, 0.5 or 500m".into()),
    }
}

/// Checks a job's selectors once, at submit: known operators, a key, and the values each
/// operator needs.
pub fn validate_selectors(selectors: &[LabelSelector]) -> Result<(), String> {
    for s in selectors {
        let op = s.operator.trim().to_ascii_lowercase();
        if s.key.trim().is_empty() {
            return Err("NodeSelectors: every selector needs a Key".into());
        }
        let n = s.values.len();
        let ok = match op.as_str() {
            "=" | "==" | "!=" => n == 1,
            "gt" | "lt" => n == 1 && s.values[0].trim().parse::<i64>().is_ok(),
            "in" | "notin" => n >= 1,
            "exists" | "!" => n == 0,
            _ => {
                return Err(format!(
                    "NodeSelectors: operator {:?} of key {:?} is not one of =, ==, !=, in, notin, exists, !, gt, lt",
                    s.operator, s.key
                ))
            }
        };
        if !ok {
            return Err(format!(
                "NodeSelectors: key {:?} with operator {op:?} has the wrong values {:?} \
                 (=, ==, != take one value; gt, lt one integer; in, notin at least one; exists, ! none)",
                s.key, s.values
            ));
        }
    }
    Ok(())
}

/// Whether a node with `labels` satisfies every selector (selectors already validated).
pub fn selectors_match(selectors: &[LabelSelector], labels: &BTreeMap<String, String>) -> bool {
    selectors.iter().all(|s| {
        let value = labels.get(s.key.trim()).map(String::as_str);
        let first = s.values.first().map(|v| v.trim());
        let int = |v: Option<&str>| v.and_then(|v| v.trim().parse::<i64>().ok());
        match s.operator.trim().to_ascii_lowercase().as_str() {
            "=" | "==" => value.is_some() && value == first,
            "!=" => value != first,
            "in" => value.is_some_and(|v| s.values.iter().any(|x| x.trim() == v)),
            "notin" => value.is_none_or(|v| s.values.iter().all(|x| x.trim() != v)),
            "exists" => value.is_some(),
            "!" => value.is_none(),
            "gt" => matches!((int(value), int(first)), (Some(a), Some(b)) if a > b),
            "lt" => matches!((int(value), int(first)), (Some(a), Some(b)) if a < b),
            _ => false,
        }
    })
}

/// Parses `KEY=VALUE` labels (from `--label`).
pub fn parse_labels(items: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for item in items {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| format!("--label {item:?}: expected KEY=VALUE"))?;
        let k = k.trim();
        if k.is_empty() {
            return Err(format!("--label {item:?}: the key is empty"));
        }
        out.insert(k.to_owned(), v.trim().to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(key: &str, op: &str, values: &[&str]) -> LabelSelector {
        LabelSelector {
            key: key.into(),
            operator: op.into(),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    fn labels() -> BTreeMap<String, String> {
        parse_labels(&["zone=eu".into(), "tier=2".into(), "gpu=".into()]).unwrap()
    }

    #[test]
    fn every_kubernetes_operator_matches_as_documented() {
        let l = labels();
        let yes = [
            sel("zone", "=", &["eu"]),
            sel("zone", "==", &["eu"]),
            sel("zone", "!=", &["us"]),
            sel("missing", "!=", &["us"]),
            sel("zone", "in", &["us", "eu"]),
            sel("zone", "notin", &["us"]),
            sel("missing", "notin", &["us"]),
            sel("gpu", "exists", &[]),
            sel("missing", "!", &[]),
            sel("tier", "gt", &["1"]),
            sel("tier", "lt", &["3"]),
            sel("zone", "IN", &["eu"]),
        ];
        for s in &yes {
            assert!(
                selectors_match(std::slice::from_ref(s), &l),
                "{s:?} should match"
            );
        }
        let no = [
            sel("zone", "=", &["us"]),
            sel("missing", "=", &["eu"]),
            sel("zone", "in", &["us"]),
            sel("zone", "notin", &["eu"]),
            sel("missing", "exists", &[]),
            sel("zone", "!", &[]),
            sel("tier", "gt", &["2"]),
            sel("zone", "lt", &["3"]),
        ];
        for s in &no {
            assert!(
                !selectors_match(std::slice::from_ref(s), &l),
                "{s:?} should not match"
            );
        }
        assert!(!selectors_match(&[yes[0].clone(), no[0].clone()], &l));
    }

    #[test]
    fn malformed_selectors_are_refused_with_the_rule() {
        assert!(validate_selectors(&[sel("a", "~", &["x"])])
            .unwrap_err()
            .contains("not one of"));
        assert!(validate_selectors(&[sel("", "=", &["x"])]).is_err());
        assert!(validate_selectors(&[sel("a", "=", &[])]).is_err());
        assert!(validate_selectors(&[sel("a", "gt", &["many"])]).is_err());
        assert!(validate_selectors(&[sel("a", "exists", &["x"])]).is_err());
        assert!(validate_selectors(&[sel("a", "in", &["x", "y"]), sel("b", "!", &[])]).is_ok());
    }

    #[test]
    fn resources_parse_and_compare_with_capacity() {
        let need = Capacity::of(&Resources {
            cpu: "500m".into(),
            memory: "1Gb".into(),
            disk: "".into(),
            gpu: "1".into(),
        })
        .unwrap();
        assert_eq!(need.cpu, 0.5);
        assert_eq!(need.memory, 1_000_000_000);
        let node = Capacity {
            cpu: 2.0,
            memory: 4 << 30,
            disk: 1 << 40,
            gpu: 0,
        };
        assert!(!node.fits(&need));
        assert!(node.shortfall(&need).unwrap().starts_with("GPU"));
        let with_gpu = Capacity { gpu: 1, ..node };
        assert!(with_gpu.fits(&need));
        assert_eq!(with_gpu.minus(&need).plus(&need), with_gpu);
        assert!(Capacity::of(&Resources {
            cpu: "lots".into(),
            ..Default::default()
        })
        .is_err());
        assert!(parse_labels(&["novalue".into()]).is_err());
    }
}
