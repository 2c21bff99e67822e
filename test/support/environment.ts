// Tests read logs and metrics through what they capture, not from the terminal.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
