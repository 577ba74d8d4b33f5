-- Fixture: a hook that raises an error on a known line.
return tandem.policy{ name = "hook-error", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    error("no score for " .. mentor.name)
  end,
}
