"""The picture the camera tests record: small and slow enough for any
machine (the VM's emulated CPU included) to encode in real time."""

from appliance.capture.commands import VideoProfile

PROFILE = VideoProfile(width=320, height=180, fps=15, video_bitrate=400_000)
