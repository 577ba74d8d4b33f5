-- Fixture: a syntax error.
return tandem.policy{ name = "syntax" version = "1.0.0" }
