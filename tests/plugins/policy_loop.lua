-- Fixture (tandem match run): a score hook that never returns, even under pcall.
return tandem.policy{
  name = "policy_loop", version = "1.0.0", api = 1,
  weights = { topic_fit = 1 },
  score = function(mentor, mentee, f)
    while true do pcall(function() while true do end end) end
  end,
}
