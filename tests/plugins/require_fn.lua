-- Fixture: tries require.
return tandem.policy{
  name = "require_fn", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    local m = require("os") return m
  end,
}
