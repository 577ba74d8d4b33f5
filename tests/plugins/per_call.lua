-- Fixture: behaves differently on each call in its process. The first hook call
-- answers; every later one spins forever (a count kept in the plugin's state,
-- which lives on in its long-lived worker).
local calls = 0
return tandem.policy{
  name = "per_call", version = "1.0.0", api = 1,
  limits = { instructions = 10000000 },
  weights = { topic_fit = 1 },
  capacity = function(mentor)
    calls = calls + 1
    if calls > 1 then while true do end end
    return 2
  end,
  score = function(mentor, mentee, f)
    calls = calls + 1
    if calls > 1 then while true do end end
    return 0.5
  end,
}
