//! `hake nodes`: the nodes of the cluster with their labels, engines, capacity and
//! whether they are connected.

use serde_json::json;

use super::client::Client;
use super::exit::{CliResult, ExitCode};
use super::fmt::{out, table};
use super::jobs::OutputFormat;
use crate::api::dto::ClusterNode;

/// `hake nodes`.
#[derive(Debug, Clone, clap::Args)]
pub struct NodesArgs {
    /// table or json.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

fn gib(bytes: u64) -> String {
    format!("{:.1}G", bytes as f64 / f64::from(1u32 << 30))
}

/// Prints the nodes.
pub async fn run_nodes(client: &Client, args: &NodesArgs) -> CliResult<ExitCode> {
    let nodes: Vec<ClusterNode> = client.post("/requester/nodes", &json!({})).await?;
    match args.output {
        OutputFormat::Json => out(&format!("{}\n", json!(nodes))),
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = nodes
                .iter()
                .map(|n| {
                    let labels: Vec<String> =
                        n.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    let (engines, cpu, mem, running) = match &n.compute_node_info {
                        Some(c) => (
                            c.execution_engines.join(","),
                            format!("{}/{}", c.available_capacity.cpu, c.max_capacity.cpu),
                            format!(
                                "{}/{}",
                                gib(c.available_capacity.memory),
                                gib(c.max_capacity.memory)
                            ),
                            format!("{}/{}", c.running_executions, c.max_concurrent_executions),
                        ),
                        None => ("-".into(), "-".into(), "-".into(), "-".into()),
                    };
                    vec![
                        n.peer_info.id.clone(),
                        n.node_type.clone(),
                        n.connection.clone(),
                        labels.join(","),
                        engines,
                        cpu,
                        mem,
                        running,
                        n.peer_info.addrs.join(","),
                    ]
                })
                .collect();
            out(&table(
                &[
                    "ID",
                    "TYPE",
                    "CONNECTION",
                    "LABELS",
                    "ENGINES",
                    "CPU FREE",
                    "MEM FREE",
                    "RUNNING",
                    "URL",
                ],
                &rows,
            ));
        }
    }
    Ok(ExitCode::Ok)
}
