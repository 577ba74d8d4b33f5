-- Fixture: a job script.
return tandem.job{
  name = "weekly-digest", version = "1.0.0", api = 1, schedule = "every 7d",
  run = function(ctx)
    tandem.log("info", "digest for " .. ctx.programs[1].name .. " on " .. ctx.now)
    return { {event = {kind = "custom.digest", payload = {programs = #ctx.programs}}} }
  end,
}
