-- SPDX-License-Identifier: Apache-2.0
--
-- The wrk script of bench/e2e: every request is a webhook call, POST PATH
-- with a JSON BODY and its HMAC-SHA256 in the SIGNATURE_HEADER (the
-- workflow's trigger requires it), as a partner system would send it.
--
--   wrk -t1 -c64 -d60s -s bench/e2e-webhook.lua URL -- PATH BODY HEADER SIGNATURE [RATE]
--
-- RATE (requests per second of each wrk thread; 0 or none: as fast as the
-- server answers) paces the requests on a fixed schedule, as a steady
-- stream of outside events arrives, wherever the answers are: a connection
-- waits for its slot before it sends. A server that falls behind gets the
-- next request as soon as a connection is free (no burst to catch up), so
-- the rate wrk reports is what the server took.
--
-- done() prints one line, "AIQ_WRK key=value …", for bench/e2e to read.

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

function init(args)
	local path = args[1]
	local body = args[2]
	local header = args[3]
	local signature = args[4]
	local rate = tonumber(args[5] or "0") or 0
	if path == nil or body == nil or header == nil or signature == nil then
		error("usage: wrk … -s e2e-webhook.lua URL -- PATH BODY HEADER SIGNATURE [RATE]")
	end
	local headers = {}
	headers["Content-Type"] = "application/json"
	headers[header] = signature
	-- every request is the same bytes: format them once
	prepared = wrk.format("POST", path, headers, body)
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
	return prepared
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
