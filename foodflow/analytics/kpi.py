"""KPI appraisal: schemes, metric values, scorecards, rewards and penalties, review meetings. (Helper B.)"""
