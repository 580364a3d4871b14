"""The channel interface adapters implement, the HTTP base, the registry, safe XML."""
