-- Fixture: tries dofile.
return tandem.policy{
  name = "dofile_fn", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    return dofile("/etc/passwd")
  end,
}
