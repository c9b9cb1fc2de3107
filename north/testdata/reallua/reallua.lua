-- Run by reallua natively and inside Cocoon: prints what it computes and
-- reads back, nothing that depends on time or the host.
-- p prints its arguments with the scratch directory's name as DIR (it
-- differs between the runs).
local dirpat = DIR:gsub("%p", "%%%0")
local function p(...)
	local t = table.pack(...)
	for i = 1, t.n do
		if type(t[i]) == "string" then t[i] = t[i]:gsub(dirpat, "DIR") end
	end
	print(table.unpack(t, 1, t.n))
	io.stdout:flush()
end
p("lua", _VERSION)

-- string
local s = "The quick brown fox jumps over the lazy dog"
p(s:upper(), #s, s:find("fox"), s:match("(%a+) dog"))
p(s:gsub("%a+", function(w) return w:sub(1, 1) end))
p(string.format("%5.2f|%-6s|%x|%q|%g", math.pi, "ab", 48879, "a\nb\0c", 1e300 * 10))
p(string.pack("<i4 >I2 z", -2, 258, "xy"):byte(1, -1))
local words = {}
for w in s:gmatch("%a+") do words[#words + 1] = w end
table.sort(words, function(a, b) return a:lower() < b:lower() end)
p(table.concat(words, ","))
p(utf8.char(72, 228, 8364, 128512), utf8.len("häll€"))

-- math and integers
p(math.maxinteger, math.mininteger, 7 // 2, 7.0 // 2, -7 % 3, 2^53, 1 / 0, math.tointeger(3.0))
math.randomseed(42)
local r = {}
for i = 1, 5 do r[i] = math.random(1, 1000) end
p(table.concat(r, " "))

-- coroutines
local gen = coroutine.wrap(function(n)
	for i = 1, n do coroutine.yield(i * i) end
	return "done"
end)
p(gen(5), gen(), gen(), gen(), gen(), gen())
local co = coroutine.create(function(a) local b = coroutine.yield(a + 1); error("boom " .. b) end)
p(coroutine.resume(co, 1))
p(coroutine.resume(co, 2))
p(coroutine.status(co), coroutine.isyieldable())

-- errors and metatables
p(pcall(function() local t = nil; return t.x end))
local mt = {__index = function(_, k) return k .. "!" end, __add = function(a, b) return "sum" end, __close = function() p("closed") end}
local obj = setmetatable({}, mt)
p(obj.hi, obj + obj)
do local c <close> = obj end

-- io: write, read back in several ways, seek, lines
local path = DIR .. "/lua-io.txt"
local f = assert(io.open(path, "w"))
for i = 1, 100 do f:write(string.format("line %03d %s\n", i, string.rep("x", i % 17))) end
f:write(12345, " ", 6.5, "\n")
f:close()
f = assert(io.open(path, "r"))
p(f:read("l"), f:read("n"), f:read(4), f:seek("cur"), f:seek("end"))
f:seek("set", 100)
p(f:read("L"))
f:close()
local n, last = 0, nil
for l in io.lines(path) do n = n + 1; last = l end
p(n, last)
f = assert(io.open(path, "a+"))
f:write("appended\n")
f:seek("set")
p(#f:read("a"))
f:close()
p(io.open(DIR .. "/no/such/file"))
p(io.type(f), io.type(io.stdout), io.type(42))

-- os
p(os.getenv("REALLUA"), os.getenv("NO_SUCH_VARIABLE"))
p(os.date("!%Y-%m-%d %H:%M:%S", 1700000000), os.date("%A %B %j", 86400 * 365))
p(os.time({year = 2020, month = 2, day = 29, hour = 12}))
local d = os.date("*t", 1234567890)
p(d.year, d.month, d.day, d.hour, d.min, d.sec, d.wday, d.yday, d.isdst)
local now = os.time()
p(type(now), now > 1700000000, os.difftime(now + 60, now))
local c0 = os.clock()
local x = 0
for i = 1, 200000 do x = x + i % 7 end
p(x, os.clock() >= c0)
local tmp = os.tmpname()
p(tmp:match("^/tmp/lua_") ~= nil, io.open(tmp) ~= nil)
p(os.remove(tmp), select(3, os.remove(tmp)))
-- io.tmpfile: glibc's tmpfile(3), an O_TMPFILE file in /tmp.
local tf = assert(io.tmpfile())
tf:write("scratch ", 42, "\n")
tf:seek("set")
p(tf:read("a"), tf:seek("end"))
tf:close()
local a, b = DIR .. "/a.txt", DIR .. "/b.txt"
assert(io.open(a, "w")):close()
p(os.rename(a, b), io.open(a) == nil, io.open(b) ~= nil)
p(select(2, os.rename(a, b)), select(3, os.rename(a, b)))
p(os.remove(b))
p(select(3, os.remove(DIR .. "/..")), select(3, os.remove(path .. "/x")), select(3, os.rename(path, DIR .. "/missing/x")))

-- popen, if there is a shell
local sh = io.open("/bin/sh")
if sh then
	sh:close()
	local ph = assert(io.popen("echo popen works; echo line two", "r"))
	p(ph:read("a"))
	p(ph:close())
	ph = assert(io.popen("cat > " .. DIR .. "/popen.out", "w"))
	ph:write("written through a pipe\n")
	p(ph:close())
	p(io.open(DIR .. "/popen.out"):read("a"))
	p(os.execute("exit 3"))
	p(os.execute())
else
	p("no /bin/sh")
end

-- a bigger workload: a table of 20000 entries, string building, GC
local t = {}
for i = 1, 20000 do t[i] = {i, tostring(i):rep(3)} end
local sum = 0
for _, v in ipairs(t) do sum = sum + v[1] + #v[2] end
t = nil
collectgarbage()
p(sum, collectgarbage("count") > 0)
p("reallua: done")
