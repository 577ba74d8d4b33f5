-- Fixture: an endless loop that tries to swallow the budget error with pcall.
return tandem.policy{
  name = "loop_pcall", version = "1.0.0", api = 1, limits = { instructions = 10000000 },
  score = function(mentor, mentee, features)
    while true do pcall(function() while true do end end) end
  end,
}
