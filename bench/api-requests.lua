-- SPDX-License-Identifier: Apache-2.0
--
-- The wrk script of bench/api. Every request picks a random line
-- "TOKEN VALUE" of FILE and sends METHOD string.format(PATH, VALUE) with
-- "Authorization: Bearer TOKEN", so that requests spread over many tenants,
-- tokens and rows (the principal cache and the page cache see a realistic
-- mix, not one hot row). POST requests carry a start body
-- {"inputs": {...}}. FILE "-" sends PATH alone, without a token (the
-- /healthz baseline, through the same client-side code).
--
--   wrk -t2 -c64 -d10s -s bench/api-requests.lua URL -- FILE METHOD PATH
--
-- done() prints one line, "AIQ_WRK key=value …", for bench/api to read.

local counter = 0

function setup(thread)
	counter = counter + 1
	thread:set("id", counter)
end

function init(args)
	local file = args[1]
	method = args[2] or "GET"
	path_format = args[3] or "/"
	tokens = {}
	values = {}
	if file ~= nil and file ~= "-" then
		for line in io.lines(file) do
			local token, value = line:match("^(%S+) (%S+)$")
			if token ~= nil then
				tokens[#tokens + 1] = token
				values[#values + 1] = value
			end
		end
		if #tokens == 0 then
			error("no \"TOKEN VALUE\" lines in " .. file)
		end
	end
	n = #tokens
	math.randomseed(os.time() * 100 + (id or 0))
	headers = {}
end

function request()
	local path = path_format
	local body = nil
	if n > 0 then
		local i = math.random(n)
		headers["Authorization"] = "Bearer " .. tokens[i]
		path = string.format(path_format, values[i])
	end
	if method == "POST" then
		headers["Content-Type"] = "application/json"
		body = string.format('{"inputs":{"since":"2026-01-%02d"}}', math.random(28))
	end
	return wrk.format(method, path, headers, body)
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"AIQ_WRK requests=%d duration_us=%d p50_us=%d p99_us=%d status_errors=%d "
			.. "socket_errors=%d\n",
		summary.requests,
		summary.duration,
		latency:percentile(50),
		latency:percentile(99),
		e.status,
		e.connect + e.read + e.write + e.timeout
	))
end
