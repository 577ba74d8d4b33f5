-- Fixture: tries the package library.
return tandem.policy{
  name = "package_lib", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    return package.path
  end,
}
