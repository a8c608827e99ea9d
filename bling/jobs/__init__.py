"""The job engine: lanes, leases, pacing against Help Scout's budget, periodic tasks."""
