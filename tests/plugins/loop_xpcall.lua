-- Fixture: an endless loop under xpcall with a message handler.
return tandem.policy{
  name = "loop_xpcall", version = "1.0.0", api = 1, limits = { instructions = 10000000 },
  score = function(mentor, mentee, features)
    local n = 0 while true do xpcall(function() while true do n = n + 1 end end, function(e) return e end) end
  end,
}
