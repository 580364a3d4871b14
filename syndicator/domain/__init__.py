"""The vocabulary every layer shares: the tender record, delivery states, keys, the clock."""
