-- Fixture: a plugin targeting a newer plugin API.
return tandem.report{ name = "future", version = "1.0.0", api = 2, build = function() end }
