"""Operations use-cases and read models shared by the CLI, dashboard and API."""
