-- Fixture: a declaration with a field of the wrong type.
return tandem.cadence{ name = "bad", version = "1.0.0", api = 1, plan = "weekly" }
