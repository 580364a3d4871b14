"""`syndicator demo`: the whole product on its embedded defaults, in under two minutes."""
