-- Fixture: an endless loop in a hook (instruction budget).
return tandem.policy{
  name = "loop", version = "1.0.0", api = 1, limits = { instructions = 10000000 },
  score = function(mentor, mentee, features)
    while true do end
  end,
}
