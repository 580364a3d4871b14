"""The delivery engine: dispatch, retries, breakers, the sweeper, alerts."""
