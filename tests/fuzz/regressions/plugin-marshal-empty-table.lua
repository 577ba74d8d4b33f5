return tandem.job{ name = "j", version = "1.0.0", api = 1, schedule = "every 7d",
  run = function() end, limits = {} }
