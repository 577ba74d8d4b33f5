-- Fixture: a declaration with a misspelt field.
return tandem.job{ name = "bad", version = "1.0.0", api = 1, schedule = "every 1d",
  run = function() end, shedule = "x" }
