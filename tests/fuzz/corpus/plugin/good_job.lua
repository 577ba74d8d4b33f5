-- Fixture: a job script.
return tandem.job{
  name = "weekly-digest", version = "1.0.0", api = 1, schedule = "every 7d",
  run = function(ctx)
    tandem.log("info", "digest for " .. ctx.program.name)
    return { ok = true, weekday = tandem.time.weekday(ctx.now, "Europe/Paris") }
  end,
}
