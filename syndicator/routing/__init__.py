"""Which destinations a tender needs, and why: policy, thresholds, regimes (pure)."""
