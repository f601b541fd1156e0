"""Study (理论学习): /study, and a session a meeting already credits."""
