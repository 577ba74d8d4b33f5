-- Fixture: tries to replace a tandem API function.
return tandem.policy{
  name = "tandem_write", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    tandem.time.parse = function() return 0 end return 1
  end,
}
