"""Reading and checking the TOML files in `config/` and the environment."""
