//! The Noop engine: completes at once with empty output.

use crate::model::Engine;

use super::{Executor, RunContext};

/// Runs nothing, successfully.
#[derive(Debug, Default)]
pub struct NoopEngine;

#[async_trait::async_trait]
impl Executor for NoopEngine {
    fn kind(&self) -> Engine {
        Engine::Noop
    }

    async fn run(&self, _ctx: RunContext) -> anyhow::Result<i32> {
        Ok(0)
    }
}
