-- Fixture: an invalid plugin name.
return tandem.report{ name = "Bad Name", version = "1.0.0", api = 1, build = function() end }
