-- Fixture: a report that uses the matching bindings.
return tandem.report{
  name = "match-demo", version = "1.0.0", api = 1,
  build = function(q, ctx)
    local r = tandem.match.assign({{1, 2}, {2, 1}}, {maximize = true})
    local s = tandem.match.stable({{1, 2}, {2, 1}}, {{2, 1}, {1, 2}})
    return { total = r.total, first = r.pairs[1][2], stable = #s.pairs }
  end,
}
