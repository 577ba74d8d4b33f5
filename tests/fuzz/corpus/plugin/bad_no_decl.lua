-- Fixture: returns a plain table instead of a declaration.
return { name = "plain", version = "1.0.0", api = 1 }
