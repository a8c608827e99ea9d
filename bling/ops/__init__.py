"""Running Bling: health, metrics, logs, provisioning and the live check."""
