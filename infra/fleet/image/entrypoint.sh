#!/bin/sh
# peakday k6 fleet generator (one ECS task). Environment (set by peakday run --fleet ecs):
#   PEAKDAY_BUCKET, PEAKDAY_RUN (key prefix runs/<id>), PEAKDAY_BASE_URL
# Protocol, all through the results bucket (the task role may read and write only there):
#   1. read  <run>/script.js; write <run>/ready/<task id>
#   2. wait for <run>/assign/<task id>: "INDEX COUNT START_AT_MS" (peakday writes it once every task
#      is RUNNING); sleep until START_AT_MS, so every segment's clock starts at one instant
#   3. k6 run on segment INDEX/COUNT; sample this task's CPU every second meanwhile
#   4. write <run>/out/<INDEX>/{k6-out.ndjson,k6-summary.json,k6-console.txt,cpu.txt,exit-code}
# SIGTERM (StopTask, Ctrl-C in peakday) stops k6 with SIGINT and still uploads what it wrote.
set -u
RUN="s3://${PEAKDAY_BUCKET}/${PEAKDAY_RUN}"
TASK_ID=$(curl -fsS "${ECS_CONTAINER_METADATA_URI_V4}/task" | sed -n 's/.*"TaskARN":"[^"]*\/\([^"/]*\)".*/\1/p')
[ -n "$TASK_ID" ] || { echo "peakday-generator: no task id from the ECS metadata endpoint" >&2; exit 70; }
aws s3 cp --only-show-errors "${RUN}/script.js" /work/script.js || exit 71
echo ready | aws s3 cp --only-show-errors - "${RUN}/ready/${TASK_ID}" || exit 72
stopped=0
trap 'stopped=1' TERM INT
until aws s3 cp --only-show-errors "${RUN}/assign/${TASK_ID}" /work/assign 2>/dev/null; do
  [ "$stopped" = 1 ] && exit 143
  sleep 0.5
done
read -r INDEX COUNT START_AT_MS < /work/assign
now_ms=$(($(date +%s%N) / 1000000))
wait_ms=$((START_AT_MS - now_ms))
[ "$wait_ms" -gt 0 ] && sleep "$(awk "BEGIN { print $wait_ms / 1000 }")"
seg() { if [ "$1" = 0 ]; then echo 0; elif [ "$1" = "$COUNT" ]; then echo 1; else echo "$1/$COUNT"; fi; }
SEQ=0; i=1; while [ "$i" -le "$COUNT" ]; do SEQ="$SEQ,$(seg "$i")"; i=$((i + 1)); done
( prev=$(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8, $5+$6}' /proc/stat)
  while :; do sleep 1; cur=$(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8, $5+$6}' /proc/stat)
    echo "$prev $cur" | awk '{dt=$3-$1; di=$4-$2; if (dt>0) printf "%.2f\n", 1-di/dt}' >> /work/cpu.txt; prev=$cur; done ) &
SAMPLER=$!
k6 run --out json=/work/k6-out.ndjson --summary-export=/work/k6-summary.json \
  --execution-segment "$(seg $((INDEX - 1))):$(seg "$INDEX")" --execution-segment-sequence "$SEQ" \
  --tag "peakday_segments=${COUNT}" --tag "instance_id=${INDEX}" /work/script.js > /work/k6-console.txt 2>&1 &
K6=$!
trap 'kill -INT $K6 2>/dev/null' TERM INT
wait $K6; code=$?
# A signal interrupts wait: wait again for k6 to finish writing.
kill -0 $K6 2>/dev/null && { wait $K6; code=$?; }
kill $SAMPLER 2>/dev/null
echo "$code" > /work/exit-code
for f in k6-out.ndjson k6-summary.json k6-console.txt cpu.txt exit-code; do
  [ -f "/work/$f" ] && aws s3 cp --only-show-errors "/work/$f" "${RUN}/out/${INDEX}/$f"
done
exit "$code"
