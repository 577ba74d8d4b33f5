-- Fixture (tandem match run): a score hook that allocates without bound.
local keep = {}
return tandem.policy{
  name = "policy_bomb", version = "1.0.0", api = 1,
  -- The default memory budget is under test; a wider deadline keeps a loaded
  -- machine (slow page faults) from stopping it on time first.
  limits = { deadline_ms = 4000 },
  weights = { topic_fit = 1 },
  score = function(mentor, mentee, f)
    local s = "x"
    while true do
      s = s .. s
      keep[#keep + 1] = s
    end
  end,
}
