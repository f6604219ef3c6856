”foa.72

comfortMin20.52
scheduleweekday