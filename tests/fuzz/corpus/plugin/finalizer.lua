-- Fixture: tries to install a finalizer.
return tandem.policy{
  name = "finalizer", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    setmetatable({}, {__gc = function() end}) return 1
  end,
}
