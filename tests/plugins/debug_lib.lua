-- Fixture: tries the debug library.
return tandem.policy{
  name = "debug_lib", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    return debug.getinfo(1).source
  end,
}
