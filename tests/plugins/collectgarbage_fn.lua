-- Fixture: tries collectgarbage.
return tandem.policy{
  name = "collectgarbage_fn", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    collectgarbage("stop") return 1
  end,
}
