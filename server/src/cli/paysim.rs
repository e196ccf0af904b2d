//! `lotse paysim`: the payment platform simulator as a process of its own, for `.ci/run`, the
//! browser tests and the benchmarks (docs/payment.md).

use anyhow::{Context, bail};
use std::io::Write;

pub fn run(listen: std::net::SocketAddr, secret_env: &str) -> anyhow::Result<()> {
    if !listen.ip().is_loopback() {
        bail!("LOT-P020: the simulator listens on loopback only, not on {listen}");
    }
    let secret = std::env::var(secret_env)
        .ok()
        .filter(|s| s.len() >= 16)
        .with_context(|| {
            format!("LOT-P021: {secret_env} must hold the shared secret (at least 16 characters)")
        })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let sim = crate::payment::sim::spawn(listen, secret.into_bytes()).await?;
        println!("paysim {}", sim.base);
        let _ = std::io::stdout().flush();
        crate::startup::shutdown_signal().await;
        sim.stop().await;
        anyhow::Ok(())
    })
}
