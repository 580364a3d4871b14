"""The status store: tables, migrations, and the guarded state transitions."""
