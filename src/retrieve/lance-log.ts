// LanceDB's native side logs through Rust's env_logger, configured from LANCEDB_LOG when the module loads. Keep it at
// errors unless the user asked for more, so that warnings do not interleave with our CLI's output.
process.env.LANCEDB_LOG ??= 'error';
