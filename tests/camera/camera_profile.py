"""What the camera tests record: a picture small and slow enough for any
machine to encode in real time, and a sound to go with it."""

from appliance.capture.commands import VideoProfile

PROFILE = VideoProfile(width=320, height=180, fps=15, video_bitrate=400_000)

# what the root has instead of a microphone: ffmpeg's lavfi, paced in real
# time and stamped with the wall clock as ALSA stamps sound (this root has
# no sound card; the VM's system test records through ALSA's loopback)
BEEPS = ("aevalsrc=exprs='if(lt(mod(t\\,1)\\,0.1333)\\,0.4*sin(2*PI*1000*t)\\,0)'"
         ":s=48000:c=mono:n=1024,arealtime,asetpts=expr=RTCTIME*SR/1000000")
