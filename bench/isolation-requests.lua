-- SPDX-License-Identifier: Apache-2.0
--
-- The wrk script of bench/isolation: one tenant's clients. Requests go
-- round-robin over the METHOD PATH pairs given, each with
-- "Authorization: Bearer TOKEN" (a POST carries a start body
-- {"inputs": {}}), and every answer is counted by what it was: 2xx, 429
-- rate_limited, 429 quota_exceeded, or anything else.
--
--   wrk -t1 -c4 -d30s -s bench/isolation-requests.lua URL -- RATE TOKEN METHOD PATH [METHOD PATH]…
--
-- RATE (requests per second of each wrk thread; 0: as fast as the server
-- answers) paces the requests on a fixed schedule, as e2e-webhook.lua does:
-- a connection waits for its slot before it sends, and a server that falls
-- behind gets the next request as soon as a connection is free (no burst
-- to catch up). wrk times each request from its sending, not from its slot.
--
-- done() prints one line, "AIQ_WRK key=value …", for bench/isolation.

local ffi = require("ffi")

ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } aiq_timespec;
int clock_gettime(int clock_id, aiq_timespec *tp);
]])

local CLOCK_MONOTONIC = 1
local ts = ffi.new("aiq_timespec")

local function now_ms()
	ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
	return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}

function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	local rate = tonumber(args[1] or "0") or 0
	local token = args[2]
	if token == nil or args[3] == nil or args[4] == nil then
		error("usage: wrk … -s isolation-requests.lua URL -- RATE TOKEN METHOD PATH [METHOD PATH]…")
	end
	local headers = {}
	headers["Authorization"] = "Bearer " .. token
	local post_headers = {}
	post_headers["Authorization"] = "Bearer " .. token
	post_headers["Content-Type"] = "application/json"
	-- every request of a pair is the same bytes: format them once
	prepared = {}
	for i = 3, #args - 1, 2 do
		local method, path = args[i], args[i + 1]
		if method == "POST" then
			prepared[#prepared + 1] = wrk.format("POST", path, post_headers, '{"inputs": {}}')
		else
			prepared[#prepared + 1] = wrk.format(method, path, headers, nil)
		end
	end
	turn = 0
	ok, rate_limited, quota_exceeded, other = 0, 0, 0, 0
	if rate > 0 then
		interval_ms = 1000 / rate
		next_ms = nil
		-- wrk calls delay() before each request but the first of each connection
		delay = function()
			local t = now_ms()
			if next_ms == nil or next_ms < t then
				next_ms = t
			end
			local wait = next_ms - t
			next_ms = next_ms + interval_ms
			return math.floor(wait)
		end
	end
end

function request()
	turn = turn % #prepared + 1
	return prepared[turn]
end

function response(status, headers, body)
	if status >= 200 and status <= 299 then
		ok = ok + 1
	elseif status == 429 and body ~= nil and body:find('"rate_limited"', 1, true) then
		rate_limited = rate_limited + 1
	elseif status == 429 and body ~= nil and body:find('"quota_exceeded"', 1, true) then
		quota_exceeded = quota_exceeded + 1
	else
		other = other + 1
	end
end

function done(summary, latency, requests)
	local e = summary.errors
	local n_ok, n_rate, n_quota, n_other = 0, 0, 0, 0
	for _, thread in ipairs(threads) do
		n_ok = n_ok + thread:get("ok")
		n_rate = n_rate + thread:get("rate_limited")
		n_quota = n_quota + thread:get("quota_exceeded")
		n_other = n_other + thread:get("other")
	end
	io.write(string.format(
		"AIQ_WRK requests=%d duration_us=%d p50_us=%d p99_us=%d ok=%d rate_limited=%d "
			.. "quota_exceeded=%d other=%d socket_errors=%d\n",
		summary.requests,
		summary.duration,
		latency:percentile(50),
		latency:percentile(99),
		n_ok,
		n_rate,
		n_quota,
		n_other,
		e.connect + e.read + e.write + e.timeout
	))
end
