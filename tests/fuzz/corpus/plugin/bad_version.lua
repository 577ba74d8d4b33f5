-- Fixture: a version that is not semver-like.
return tandem.report{ name = "v", version = "1.2", api = 1, build = function() end }
