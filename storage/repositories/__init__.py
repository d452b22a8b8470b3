"""Query functions, one module per noun. Repositories never commit: services do, once."""
