-- Fixture: a runtime error inside a C API function (bad time string).
return tandem.policy{ name = "api-error", version = "1.0.0", api = 1,
  score = function()
    return tandem.time.parse("2026-13-01")
  end,
}
